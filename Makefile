# The two commands of the README: `make chat` (set up, build, talk) and `make test`.
SWIFT_RELEASE = -c release -Xswiftc -enable-testing $(CPU_FLAGS)
# On x86-64 the build targets the AVX2/FMA/F16C level (`haswell`: Intel 2013 on, AMD 2015 on, every
# machine this project runs on): the quantized kernels run 1.1-2.5x faster than a baseline build
# (BENCHMARKS.md). `make build CPU=` builds for any x86-64; other architectures ignore the default.
CPU ?= $(if $(filter x86_64,$(shell uname -m)),haswell,)
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
