# Two entry points: `make run` and `make test`. Both install librdkafka-dev, liblz4-dev and libjemalloc-dev
# when missing.
SWIFT ?= swift

.PHONY: deps test-deps build run test clean fuzz fuzz-build fuzz-merge format lint

deps:
	@pkg-config --exists rdkafka liblz4 jemalloc || { \
	  echo "librdkafka-dev, liblz4-dev or libjemalloc-dev is missing: installing them with apt"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq librdkafka-dev liblz4-dev libjemalloc-dev pkg-config; }

build: deps
	$(SWIFT) build

# The demo: worker + embedded broker + bundled sample stream + live table (options of `run` via ARGS).
run: deps
	$(SWIFT) build -c release --product khuyencong
	.build/release/khuyencong demo $(ARGS)

# The tests check JSON against Schemas/ and deploy/ offline with these Python packages; the
# dashboard's browser test drives Debian's chromium through chromium-driver and selenium; the HTTP
# API's responses are checked against docs/openapi.yaml with openapi-spec-validator; the alert rules
# and the Alertmanager configuration with promtool and amtool (Debian's prometheus packages).
test-deps:
	@python3 -c 'import jsonschema, rfc3339_validator, yaml, kubernetes_validate, selenium, openapi_spec_validator' \
	  2>/dev/null || python3 -m pip install --quiet jsonschema rfc3339-validator PyYAML kubernetes-validate \
	  selenium openapi-spec-validator
	@missing=""; \
	  command -v chromium >/dev/null || missing="$$missing chromium"; \
	  command -v chromedriver >/dev/null || missing="$$missing chromium-driver"; \
	  command -v promtool >/dev/null || missing="$$missing prometheus"; \
	  command -v amtool >/dev/null || missing="$$missing prometheus-alertmanager"; \
	  [ -z "$$missing" ] || { \
	  echo "installing with apt:$$missing (browser test, alert rule checks)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; }

# Unformatted code fails the tests (run `make format`).
test: deps test-deps lint
	$(SWIFT) build --build-tests
	Tests/with-deadline.sh $(SWIFT) test --skip-build
	@# Crash recovery on its own: its bounds are timings, which the parallel suites would disturb.
	RECOVERY_TEST=1 Tests/with-deadline.sh $(SWIFT) test --skip-build --filter CrashRecoveryTests

clean:
	rm -rf .build

# Formatting with the toolchain's swift-format and the checked-in .swift-format (lines ≤ 120).
# swift-format breaks code but not string literals, so lint also counts the columns itself.
FORMAT_PATHS = Package.swift Sources Tests
format:
	$(SWIFT) format --in-place --recursive --parallel $(FORMAT_PATHS)

lint:
	$(SWIFT) format lint --strict --recursive --parallel $(FORMAT_PATHS)
	@python3 Tests/check_line_length.py 120 $(FORMAT_PATHS)

# Offline checks of deploy/ against hand-written examples, for editing deploy/ without a build;
# `make test` runs the same checks against a real worker's /metrics and configuration reference.
DEPLOY_METRICS ?= deploy/testdata/metrics.example.txt
DEPLOY_CONFIG_REFERENCE ?= deploy/testdata/config-reference.example.json
.PHONY: deploy-check
deploy-check: test-deps
	python3 deploy/check.py --metrics $(DEPLOY_METRICS) --config-reference $(DEPLOY_CONFIG_REFERENCE)

# libFuzzer over the decoder and validator (docs/FUZZING.md), for FUZZ_SECONDS. New inputs go to
# $(FUZZ_DIR)/corpus, crashes to $(FUZZ_DIR)/artifacts; `make fuzz-merge` then minimises those under
# 8 KiB into the checked-in corpus, Tests/Fuzz/corpus, which `make test` replays (large inputs add
# almost no coverage; the hostile-input tests cover the size limit).
FUZZ_SECONDS ?= 60
FUZZ_DIR ?= .build-fuzz
FUZZ_ARGS ?=
FUZZ_BIN = $(FUZZ_DIR)/release/FuzzDecoder
FUZZ_OPTIONS = -dict=Tests/Fuzz/decoder.dict -max_len=70000 -timeout=10 -artifact_prefix=$(FUZZ_DIR)/artifacts/

fuzz-build:
	$(SWIFT) build -c release --scratch-path $(FUZZ_DIR) --product FuzzDecoder \
	  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DFUZZING

fuzz: fuzz-build
	python3 Tests/Fuzz/seeds.py $(FUZZ_DIR)/seeds
	mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/artifacts
	$(FUZZ_BIN) $(FUZZ_OPTIONS) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(FUZZ_ARGS) \
	  $(FUZZ_DIR)/corpus Tests/Fuzz/corpus $(FUZZ_DIR)/seeds

fuzz-merge: fuzz-build
	rm -rf $(FUZZ_DIR)/small $(FUZZ_DIR)/merged && mkdir -p $(FUZZ_DIR)/small $(FUZZ_DIR)/merged
	find Tests/Fuzz/corpus $(FUZZ_DIR)/corpus $(FUZZ_DIR)/seeds -type f -size -8k -exec cp {} $(FUZZ_DIR)/small/ \;
	$(FUZZ_BIN) $(FUZZ_OPTIONS) -merge=1 $(FUZZ_DIR)/merged $(FUZZ_DIR)/small
	rm -rf Tests/Fuzz/corpus && mv $(FUZZ_DIR)/merged Tests/Fuzz/corpus
	du -sh --apparent-size Tests/Fuzz/corpus
