# Switchyard: `make run` starts the switch on embedded defaults; `make test` installs what the
# tests need (SIPp, the modesl npm package) and runs every check.
GO        ?= go
BIN       ?= bin/switchyard
PKGS      := ./...
FUZZTIME  ?= 2m

.PHONY: all build run test test-deps deps-check vet fmt-check lint fuzz bench clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/switchyard

run: build
	./$(BIN) $(ARGS)

test-deps:
	./scripts/install-test-deps.sh

## test: install test peers, check layering and formatting, then run all tests (race detector on the pure packages).
test: test-deps fmt-check vet deps-check
	$(GO) test -count=1 -timeout 25m $(PKGS)

deps-check:
	$(GO) run ./tools/depscheck

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

lint: vet
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(PKGS)

## fuzz: run every fuzz target for FUZZTIME (default 2m) each.
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

clean:
	rm -rf bin
