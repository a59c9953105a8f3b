package esl

import "errors"

// Sentinel errors returned by the reader. Every framing error is fatal for the connection
// (PROTOCOL §2 item 5: the server sends a disconnect notice and closes).
var (
	// ErrLineTooLong: a header or command line exceeds Limits.MaxLine.
	ErrLineTooLong = errors.New("esl: line too long")
	// ErrTooManyHeaders: a block has more than Limits.MaxHeaders lines.
	ErrTooManyHeaders = errors.New("esl: too many headers")
	// ErrHeaderTooLarge: a header block exceeds Limits.MaxHeaderBytes.
	ErrHeaderTooLarge = errors.New("esl: header block too large")
	// ErrBadContentLength: Content-Length is not a decimal number, is negative or has too many digits.
	ErrBadContentLength = errors.New("esl: bad Content-Length")
	// ErrBodyTooLarge: Content-Length exceeds Limits.MaxBody.
	ErrBodyTooLarge = errors.New("esl: body too large")
	// ErrEmptyCommand: the command line is empty.
	ErrEmptyCommand = errors.New("esl: empty command")
	// ErrUnknownCommand: the command keyword is not an ESL command.
	ErrUnknownCommand = errors.New("esl: unknown command")
)
