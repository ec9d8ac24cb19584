# Two entry points: `make run` and `make test`. Both install librdkafka-dev when it is missing.
SWIFT ?= swift

.PHONY: deps test-deps build run test clean format lint

deps:
	@pkg-config --exists rdkafka || { \
	  echo "librdkafka-dev is missing: installing it with apt"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq librdkafka-dev pkg-config; }

build: deps
	$(SWIFT) build

# The demo: worker + embedded broker + bundled sample stream + live table (options of `run` via ARGS).
run: deps
	$(SWIFT) build -c release --product khuyencong
	.build/release/khuyencong demo $(ARGS)

# The tests check JSON against Schemas/ and deploy/ offline with these Python packages.
test-deps:
	@python3 -c 'import jsonschema, rfc3339_validator, yaml, kubernetes_validate' 2>/dev/null || \
	  python3 -m pip install --quiet jsonschema rfc3339-validator PyYAML kubernetes-validate

test: deps test-deps
	$(SWIFT) build --build-tests
	Tests/with-deadline.sh $(SWIFT) test --skip-build

clean:
	rm -rf .build

# Formatting with the toolchain's swift-format and the checked-in .swift-format (lines ≤ 120).
FORMAT_PATHS = Package.swift Sources Tests
format:
	$(SWIFT) format --in-place --recursive --parallel $(FORMAT_PATHS)

lint:
	$(SWIFT) format lint --strict --recursive --parallel $(FORMAT_PATHS)

# Offline checks of deploy/ against hand-written examples, for editing deploy/ without a build;
# `make test` runs the same checks against a real worker's /metrics and configuration reference.
DEPLOY_METRICS ?= deploy/testdata/metrics.example.txt
DEPLOY_CONFIG_REFERENCE ?= deploy/testdata/config-reference.example.json
.PHONY: deploy-check
deploy-check: test-deps
	python3 deploy/check.py --metrics $(DEPLOY_METRICS) --config-reference $(DEPLOY_CONFIG_REFERENCE)
