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

.PHONY: lint
# shellcheck and pyflakes are left out on purpose (empty paths): they are not
# installed everywhere, and the result must not depend on the machine. The
# config and files are named so that it also works outside a git checkout.
lint: ## actionlint on .github/workflows (a Go tool: go tool actionlint)
	$(GO) tool actionlint -shellcheck= -pyflakes= -config-file .github/actionlint.yaml .github/workflows/*.yml

test: vet lint ## The project's own tests, against the local platform (needs `make images`)
	bash scripts/test.sh

# make local: the platform at v1.9.0, the checklist's evidence, then
# `make deploy ENV=local VERSION=v2.0.0` into runs/<time>-local, a compressed
# drill of the 4-hour watch (`make monitor SCHEDULE="30s x2" TRAFFIC=150`:
# 4,500 requests a window, enough to show "< 0.1%" on the 95% bound),
# the go-live report again, the outcome, and everything stopped
# (LOCAL_FLAGS=--keep stays up until Ctrl-C).
LOCAL_FLAGS ?=
local: ## The whole runbook end to end on one machine: local platform at v1.9.0, make deploy to v2.0.0, a compressed watch, the go-live report, the outcome
	$(GO) run ./cmd/runbook-local $(LOCAL_FLAGS)

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

# The gates' -run patterns come from the code (internal/phase4), through
# `runbook tests smoke|postdeploy`: the tests are named in one place.
smoke: ## Step 4.1: the five smoke flows against ENV
	@$(GO) build $(TAGS) -o bin/runbook ./cmd/runbook
	@tests="$$(bin/runbook tests smoke)" || exit 2; \
	echo "$(GO) test -count=1 $(TAGS) -run '$$tests' ./smoke"; \
	$(GO) test -count=1 $(TAGS) -run "$$tests" ./smoke

.PHONY: deploy postdeploy
# make deploy writes RUN_DIR: journal.jsonl (every step, when, with what),
# preflight/smoke/postdeploy .json + .junit.xml, checklist.txt, exitcode,
# report.md/html. It stops at the first failed gate and prints the phase, the
# cause and the next command. Exit codes (README): 3 checklist blocker, 4
# deploy step, 5 smoke, 6 SLO (logs, error rate), 8 refused (no CONFIRM=$(ENV)
# on make's command line outside local). DRY_RUN=1 prints the plan and touches nothing. When a
# Phase 4 gate fails, the rollback rule (> 1% errors or a core flow broken)
# is applied: AUTO_ROLLBACK=1 runs the rollback (exit 7 if it fails, else
# the deployment's code), otherwise the exact `make rollback` is printed.
deploy: ## Phases 1-4: checklist gate, backup, notify, drain, migrate, roll out, smoke and postdeploy gates (VERSION=, CONFIRM=<env>, DRY_RUN=1, AUTO_ROLLBACK=1)
	@$(GO) build $(TAGS) -o bin/runbook ./cmd/runbook
	@dir="$(RUN_DIR)"; case "$$dir" in /*) ;; *) dir="$$PWD/$$dir";; esac; \
	RUNBOOK_VERSION=$(VERSION) bin/runbook deploy --version=$(VERSION) --run-dir="$$dir" \
	  $(CONFIRM_FLAG) $(if $(filter 1 true yes,$(DRY_RUN)),--dry-run) \
	  $(if $(filter 1 true yes,$(AUTO_ROLLBACK)),--auto-rollback) $(DEPLOY_FLAGS)

postdeploy: ## Steps 4.2-4.5 against ENV: logs, SQL errors, health, spot checks, error rate, alerts (RUN_DIR= a deploy's run folder)
	@$(GO) build $(TAGS) -o bin/runbook ./cmd/runbook
	@dir="$(RUN_DIR)"; case "$$dir" in /*) ;; *) dir="$$PWD/$$dir";; esac; mkdir -p "$$dir"; \
	tests="$$(bin/runbook tests postdeploy)" || exit 2; \
	RUNBOOK_VERSION=$(VERSION) RUNBOOK_RUN_DIR="$$dir" $(GO) tool gotestsum --format testname \
	  --jsonfile "$$dir/postdeploy.json" --junitfile "$$dir/postdeploy.junit.xml" \
	  -- -count=1 $(TAGS) -run "$$tests" ./postdeploy

.PHONY: report
# RUN defaults to the newest run folder. GNU make exits 2 whenever a recipe
# fails; the report's own code (README "Exit codes") is in make's "Error N"
# line, and bin/runbook-report RUN returns it directly (`go run` would not:
# it turns every failure into 1).
report: ## Go-live report of a run: SUCCESS CRITERIA with evidence, timeline, next command (RUN=runs/<timestamp>-<env>, default the newest)
	@$(GO) build -o bin/runbook-report ./cmd/runbook-report
	bin/runbook-report $(or $(RUN),$(patsubst %/,%,$(lastword $(sort $(wildcard runs/*/)))))

.PHONY: rollback monitor local-drill
# RUN (or RUN_DIR when given on the command line or in the environment, as
# CI does) names the run folder; the binary writes its exit code to
# <run folder>/exitcode, since make's own is always 2.
# --confirm only for a CONFIRM= given on make's own command line: exported in
# a shell, CONFIRM would confirm every later command, so the runbook refuses
# it (exit 8) and says how to confirm (README "Confirmation").
CONFIRM_FLAG = $(if $(filter command line,$(origin CONFIRM)),--confirm=$(CONFIRM))
RUN_GIVEN = $(or $(RUN),$(if $(filter command line environment,$(origin RUN_DIR)),$(RUN_DIR)))
# The rollback undoes the deployment run recorded in RUN (default: the
# newest runs/*-$(ENV) whose journal records Step 1.1, the backup, done;
# never a preflight folder; the choice is printed with why). Outside local it
# needs CONFIRM=$(ENV) on make's command line. DRY_RUN=1 prints the plan and every manual command,
# changing nothing. Exit 8: refused (no verified backup, no confirmation);
# 7: a step failed (the output says which and how to finish by hand).
rollback: ## ROLLBACK PROCEDURE: restore the previous images and the database from the verified backup, verify, smoke (RUN=..., CONFIRM=<env>, DRY_RUN=1, SKIP_DATABASE=1)
	@$(GO) build $(TAGS) -o bin/runbook ./cmd/runbook
	bin/runbook rollback $(if $(RUN_GIVEN),--run-dir=$(RUN_GIVEN)) $(CONFIRM_FLAG) $(if $(filter 1 true yes,$(DRY_RUN)),--dry-run) \
	  $(if $(filter 1 true yes,$(SKIP_DATABASE)),--skip-database)

# The watch journals into RUN (default: the newest deployment run of
# $(ENV), else the newest runs/*-$(ENV) with a journal). SCHEDULE="10s x6" or COMPRESS=240 make a drill of it; TRAFFIC=20
# sends that many read-only requests a second (local platform only: it has
# no users). AUTO_ROLLBACK=1 runs the rollback when the runbook's rule fires
# (> 1% errors or a core flow broken); otherwise the exact command is
# printed. Exit 6: a round failed; 7: the automatic rollback failed.
monitor: ## MONITORING PHASE: the 4-hour watch of the key metrics (SCHEDULE=, COMPRESS=, TRAFFIC=, AUTO_ROLLBACK=1, RUN=)
	@$(GO) build $(TAGS) -o bin/runbook ./cmd/runbook
	bin/runbook monitor $(if $(RUN_GIVEN),--run-dir=$(RUN_GIVEN)) $(CONFIRM_FLAG) $(if $(SCHEDULE),--schedule="$(SCHEDULE)") \
	  $(if $(COMPRESS),--compress=$(COMPRESS)) $(if $(TRAFFIC),--traffic=$(TRAFFIC)) $(if $(filter 1 true yes,$(AUTO_ROLLBACK)),--auto-rollback)

# make local-drill: make local with the broken v2.0.1 (5% of requests
# answer 500) and AUTO_ROLLBACK=1: `make deploy` fails its Phase 4 gate, the
# rollback runs, and the drill checks the result (images and services on
# v1.9.0, the database restored and verified against the backup, smoke
# passed on v1.9.0). Exit 0 only when it went exactly so. The library-level
# drill stays a test: go test -run '^TestDrill$$' ./rollback.
local-drill: ## The rollback drill, locally: broken v2.0.1 deployed, the gate fails, the rollback runs, database and images back, smoke passes on v1.9.0
	AUTO_ROLLBACK=1 $(GO) run ./cmd/runbook-local --drill $(LOCAL_FLAGS)

clean-containers: ## Remove every container the tests left (label org.testcontainers=true)
	bash scripts/clean-containers.sh

clean: ## Remove build outputs and run folders (keeps the image and kube-tools caches)
	rm -rf bin runs .runbook
