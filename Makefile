# The two commands of the README: `make chat` (set up, build, talk) and `make test`.
SWIFT_RELEASE = -c release -Xswiftc -enable-testing

.PHONY: setup build chat test
setup:
	./scripts/setup.sh

build: setup
	swift build $(SWIFT_RELEASE)

chat: build
	swift run $(SWIFT_RELEASE) easel chat

# Numeric code is built optimised for the tests too: a debug build is 10-100x slower.
test: setup
	swift test $(SWIFT_RELEASE)
