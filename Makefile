# Entry points. Every target installs what is missing first (scripts/deps.sh), then builds with
# CMake + Ninja into build/. The CLI ends up at build/stilts.
BUILD ?= build
BUILD_TYPE ?= Release
CMAKE_ARGS ?=

.PHONY: all deps configure build test demo bench clean

all: build

deps:
	@bash scripts/deps.sh

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS)

configure: deps $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD)

test: build
	cd $(BUILD) && ctest --output-on-failure --timeout 600

demo: build
	$(BUILD)/stilts demo --out runs/demo

bench: build
	@bash bench/run.sh $(BUILD)
	@bash bench/train_run.sh $(BUILD)
	@bash bench/stilts_vs_pytorch.sh $(BUILD)

clean:
	rm -rf $(BUILD)
