# The two commands a new machine needs (Debian 12, as root):
#   make demo   install deps, build Release, run the main job
#   make test   install deps, build Release, run the whole test suite
# Other presets: make build PRESET=asan, make check PRESET=asan.
#   make fuzz   build the libFuzzer targets (clang-14, preset fuzz) and run
#               each for FUZZ_SECONDS (docs/FUZZING.md)
PRESET ?= release
FUZZ_SECONDS ?= 60

.PHONY: deps configure build demo test check clean fuzz

deps:
	./scripts/install-deps.sh

configure: deps
	cmake --preset $(PRESET)

build: configure
	cmake --build --preset $(PRESET)

demo:
	$(MAKE) build PRESET=release
	./scripts/demo.sh build/release

test:
	$(MAKE) check PRESET=release

check: build
	ctest --preset $(PRESET)

fuzz:
	$(MAKE) build PRESET=fuzz
	FUZZ_SECONDS=$(FUZZ_SECONDS) ./fuzz/run.sh

clean:
	rm -rf build
