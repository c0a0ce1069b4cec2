# The two commands of the README: `make chat` (set up, build, talk) and `make test`.
SWIFT_RELEASE = -c release -Xswiftc -enable-testing $(CPU_FLAGS)
# Portable by default (baseline x86-64, runs anywhere). `make build CPU=haswell` targets AVX2/FMA/F16C
# machines (2013 on): the quantized kernels run 1.1-2.5x faster (see BENCHMARKS.md).
CPU ?=
CPU_FLAGS = $(if $(CPU),-Xswiftc -target-cpu -Xswiftc $(CPU) -Xcc -march=$(CPU),)

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
