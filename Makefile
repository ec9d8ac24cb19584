# Two entry points: `make run` and `make test`. Both install librdkafka-dev when it is missing.
SWIFT ?= swift

.PHONY: deps test-deps build run test clean

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

test: deps test-deps
	$(SWIFT) build --build-tests
	Tests/with-deadline.sh $(SWIFT) test --skip-build

clean:
	rm -rf .build

# Offline checks of deploy/ against hand-written examples, for editing deploy/ without a build;
# `make test` runs the same checks against a real worker's /metrics and configuration reference.
DEPLOY_METRICS ?= deploy/testdata/metrics.example.txt
DEPLOY_CONFIG_REFERENCE ?= deploy/testdata/config-reference.example.json
.PHONY: deploy-check
deploy-check: test-deps
	python3 deploy/check.py --metrics $(DEPLOY_METRICS) --config-reference $(DEPLOY_CONFIG_REFERENCE)
