// Package crash holds black-box crash-safety tests of the real switchyard binary
// (RELIABILITY §B.7 G1 and G4, DECISIONS 13): the switch runs as a child process
// under SIPp call load, is killed with SIGKILL (or stopped with SIGTERM), restarted
// on the same data directory, and every call whose BYE SIPp saw answered with 200
// must have exactly one CDR. The package has no non-test code; see crash_test.go.
package crash
