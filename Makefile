# Two entry points: `make run` and `make test`. Both install librdkafka-dev when it is missing.
SWIFT ?= swift

.PHONY: deps build run test bench clean

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

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

clean:
	rm -rf .build

# Offline checks of deploy/ (compose, Kubernetes manifests, dashboard). The lead's test passes a
# captured /metrics and the worker's configuration reference; the defaults are hand-written examples.
DEPLOY_METRICS ?= deploy/testdata/metrics.example.txt
DEPLOY_CONFIG_REFERENCE ?= deploy/testdata/config-reference.example.json
.PHONY: deploy-check
deploy-check:
	@python3 -c 'import yaml, kubernetes_validate' 2>/dev/null || python3 -m pip install --quiet PyYAML kubernetes-validate
	python3 deploy/check.py --metrics $(DEPLOY_METRICS) --config-reference $(DEPLOY_CONFIG_REFERENCE)
