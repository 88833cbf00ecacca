# runbook: the Granter deployment runbook as commands and a Go test suite.
# `make help` lists the targets. ENV picks the environment (local, staging,
# prod); it becomes the Go build tag, so staging and prod read
# environments/<ENV>.yaml and the secrets it names.

SHELL   := /bin/bash
ENV     ?= local
VERSION ?= v2.0.0
RUN_DIR ?= runs/$(shell date -u +%Y%m%d-%H%M%S)-$(ENV)
GO      ?= go
TAGS    := $(if $(filter local,$(ENV)),,-tags=$(ENV))

export TESTCONTAINERS_RYUK_DISABLED ?= true
export TESTCONTAINERS_HOST_OVERRIDE ?= 127.0.0.1

.DEFAULT_GOAL := help
.PHONY: help deps images kube-tools test vet unit local smoke preflight clean clean-containers

help: ## Show this help
	@awk 'BEGIN{FS=":.*## "} /^[a-zA-Z_-]+:.*## /{printf "  \033[1m%-18s\033[0m %s\n",$$1,$$2}' $(MAKEFILE_LIST)

deps: ## Set-up 1/2: install the Debian packages the local platform needs (root)
	bash scripts/deps.sh

images: kube-tools ## Set-up 2/2: build the Postgres image and the Kubernetes tools (cached; once)
	bash images/postgres/build.sh

kube-tools: ## Build etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok (~15 min cold, cached)
	bash fixtures/kubelab/build-tools.sh

vet: ## go vet with every build tag combination (tag-gated files are otherwise never compiled)
	$(GO) vet ./...
	$(GO) vet -tags=staging ./...
	$(GO) vet -tags=prod ./...
	@if $(GO) build -tags "staging prod" ./internal/target 2>/dev/null; then \
		echo "FAIL: -tags \"staging prod\" must not compile"; exit 1; fi

test: vet ## The project's own tests, against the local platform (needs `make images`)
	bash scripts/test.sh

local: ## Start the local platform, print its endpoints, run the runbook end to end
	$(GO) run ./cmd/runbook local

PREFLIGHT_TIMEOUT ?= 90m

# GNU make itself exits 2 whenever a recipe fails: the recipe's own code
# (3 blocker, 2 configuration, 1 run failure) is printed ("Error 3") and
# written to <run folder>/exitcode for CI.
preflight: ## Pre-deployment checklist: the 8 items from evidence, into a run folder; exit 3 on a blocker, 2 on bad configuration
	@$(GO) build -o bin/checklist ./cmd/checklist
	@dir="$(RUN_DIR)"; case "$$dir" in /*) ;; *) dir="$$PWD/$$dir";; esac; \
	mkdir -p "$$dir" && set -o pipefail; \
	RUNBOOK_VERSION=$(VERSION) RUNBOOK_RUN_DIR="$$dir" \
	  $(GO) test -count=1 -json -timeout=$(PREFLIGHT_TIMEOUT) $(TAGS) ./preflight \
	  | tee "$$dir/preflight.json" \
	  | bin/checklist -env $(ENV) -version $(VERSION) -out "$$dir/checklist.txt"; \
	code=$$?; echo $$code > "$$dir/exitcode"; echo "run folder: $$dir"; exit $$code

smoke: ## Step 4.1: the five smoke flows against ENV
	$(GO) test -count=1 $(TAGS) ./smoke

.PHONY: report
# RUN defaults to the newest run folder. GNU make exits 2 whenever a recipe
# fails; the report's own code (README "Exit codes") is in make's "Error N"
# line, and bin/runbook-report RUN returns it directly (`go run` would not:
# it turns every failure into 1).
report: ## Go-live report of a run: SUCCESS CRITERIA with evidence, timeline, next command (RUN=runs/<timestamp>-<env>, default the newest)
	@$(GO) build -o bin/runbook-report ./cmd/runbook-report
	bin/runbook-report $(or $(RUN),$(patsubst %/,%,$(lastword $(sort $(wildcard runs/*/)))))

clean-containers: ## Remove every container the tests left (label org.testcontainers=true)
	bash scripts/clean-containers.sh

clean: ## Remove build outputs and run folders (keeps the image and kube-tools caches)
	rm -rf bin runs .runbook
