# runbook: the Granter deployment runbook as commands and a Go test suite.
# `make help` lists the targets. ENV picks the environment (local, staging,
# prod); it becomes the Go build tag, so staging and prod read
# environments/<ENV>.yaml and the secrets it names.

SHELL   := /bin/bash
ENV     ?= local
VERSION ?= v2.0.0
RUN_DIR ?= runs/$(shell date -u +%Y%m%d-%H%M%S)-$(ENV)
GO      ?= go

export TESTCONTAINERS_RYUK_DISABLED ?= true
export TESTCONTAINERS_HOST_OVERRIDE ?= 127.0.0.1

# BIN is the runbook binary of ENV: every target below runs it (make build
# writes all three; a target builds its own when it is missing or stale).
BIN     := bin/runbook-$(ENV)

.DEFAULT_GOAL := help
.PHONY: help deps images kube-tools setup build image test vet unit local smoke preflight clean clean-containers FORCE

help: ## Show this help
	@awk 'BEGIN{FS=":.*## "} /^[a-zA-Z_-]+:.*## /{printf "  \033[1m%-18s\033[0m %s\n",$$1,$$2}' $(MAKEFILE_LIST)

deps: ## Set-up 1/2: install the Debian packages the local platform needs (root)
	bash scripts/deps.sh

images: kube-tools ## Set-up 2/2: build the Postgres image and the Kubernetes tools (cached; once)
	bash images/postgres/build.sh

kube-tools: ## Build etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok (~15 min cold, cached)
	bash fixtures/kubelab/build-tools.sh

# A fresh machine needs only `make local` and `make test`: both first run
# scripts/setup.sh, which installs and builds what is missing (the Debian
# packages, the Postgres image, the Kubernetes tools) with progress and a
# time estimate, and returns at once when everything is there.
setup: ## Install and build, once, what the local platform needs (make deps, make images); instant when done
	@bash scripts/setup.sh

# The binaries: static (CGO_ENABLED=0, no libc), -trimpath, one per
# environment build tag; bin/granter is the local platform's reference
# migrator (runbook local and the local preflight use it instead of
# compiling it). Nothing is compiled at deploy time: copy bin/runbook-prod
# (or the image) to the deploy host. Go's build cache makes a rebuild of an
# unchanged tree cost a second; without Go on PATH the built binary is used.
bin/runbook-%: FORCE
	@if ! command -v $(GO) >/dev/null; then \
	  [ -x $@ ] && { echo "make: $(GO) not on PATH: using the built $@"; exit 0; }; \
	  echo "make: $(GO) not on PATH and no $@: run make build where Go is installed" >&2; exit 2; fi; \
	CGO_ENABLED=0 $(GO) build -trimpath $(if $(filter local,$*),,-tags=$*) -o $@ ./cmd/runbook

bin/granter: FORCE
	@if command -v $(GO) >/dev/null; then CGO_ENABLED=0 $(GO) build -trimpath -o $@ ./fixtures/granter/cmd/granter; \
	elif [ ! -x $@ ]; then echo "make: $(GO) not on PATH and no $@" >&2; exit 2; fi

build: bin/runbook-local bin/runbook-staging bin/runbook-prod bin/granter ## Static binaries per environment: bin/runbook-{local,staging,prod} (checked: no dynamic loader, no shared library)
	@bash scripts/check-static.sh $^

IMAGE ?= runbook/runbook:$(ENV)
image: $(BIN) ## Container image runbook/runbook:ENV: scratch + the binary + CA roots, by docker import (no registry); checks --help lists every subcommand
	@bash scripts/image.sh $(BIN) $(IMAGE)

vet: ## go vet with every build tag combination (tag-gated files are otherwise never compiled)
	$(GO) vet ./...
	$(GO) vet -tags=staging ./...
	$(GO) vet -tags=prod ./...
	@if $(GO) build -tags "staging prod" ./internal/target 2>/dev/null; then \
		echo "FAIL: -tags \"staging prod\" must not compile"; exit 1; fi

.PHONY: mutation
# make mutation: mutants of fixtures/granter (conditions negated or dropped,
# boundaries, constants, removed statements, swapped arguments, early
# returns) built with go build -overlay, each judged by the smoke gate and
# the postdeploy checks 4.3 and 4.4; the score and every survivor go to
# MUTATION.md. QUICK=1: the fixed sample of fixtures/mutation/quick.txt
# (10 mutants, every one must be killed), which make test runs. Not in CI.
MUTATION_FLAGS ?=
mutation: ## Mutation testing of the reference services against smoke and postdeploy: prints the score, writes MUTATION.md (QUICK=1: the fixed 10-mutant sample make test runs)
	$(GO) run ./cmd/mutation $(if $(filter 1 true yes,$(QUICK)),-quick,-record MUTATION.md) $(MUTATION_FLAGS)

.PHONY: lint
# shellcheck and pyflakes are left out on purpose (empty paths): they are not
# installed everywhere, and the result must not depend on the machine. The
# config and files are named so that it also works outside a git checkout.
lint: ## actionlint on .github/workflows (a Go tool: go tool actionlint)
	$(GO) tool actionlint -shellcheck= -pyflakes= -config-file .github/actionlint.yaml .github/workflows/*.yml

test: setup vet lint ## The project's own tests, against the local platform (installs and builds what it needs first: make setup)
	bash scripts/test.sh

# make local: the platform at v1.9.0, the checklist's evidence, then
# `make deploy ENV=local VERSION=v2.0.0` into runs/<time>-local, a compressed
# drill of the 4-hour watch (`make monitor SCHEDULE="30s x2" TRAFFIC=150`:
# 4,500 requests a window, enough to show "< 0.1%" on the 95% bound),
# the go-live report again, the outcome, and everything stopped
# (LOCAL_FLAGS=--keep stays up until Ctrl-C).
LOCAL_FLAGS ?=
local: setup bin/runbook-local bin/granter ## The whole runbook end to end on one machine: local platform at v1.9.0, make deploy to v2.0.0, a compressed watch, the go-live report, the outcome (installs and builds what it needs first)
	bin/runbook-local local $(LOCAL_FLAGS)

PREFLIGHT_TIMEOUT ?= 90m

# GNU make itself exits 2 whenever a recipe fails: the recipe's own code
# (3 blocker, 2 configuration, 1 run failure) is printed ("Error 3") and
# written to <run folder>/exitcode for CI. The gates run inside the binary
# (no go test, nothing compiled), into RUN_DIR: <gate>.json in go test
# -json format and <gate>.junit.xml.
preflight: $(BIN) ## Pre-deployment checklist: the 8 items from evidence, into a run folder; exit 3 on a blocker, 2 on bad configuration
	@$(BIN) preflight --version=$(VERSION) --run-dir="$(RUN_DIR)" --timeout=$(PREFLIGHT_TIMEOUT)

smoke: $(BIN) ## Step 4.1: the five smoke flows against ENV, into RUN_DIR (smoke.json)
	@$(BIN) smoke --version=$(VERSION) --run-dir="$(RUN_DIR)"

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
deploy: $(BIN) ## Phases 1-4: checklist gate, backup, notify, drain, migrate, roll out, smoke and postdeploy gates (VERSION=, CONFIRM=<env>, DRY_RUN=1, AUTO_ROLLBACK=1)
	@dir="$(RUN_DIR)"; case "$$dir" in /*) ;; *) dir="$$PWD/$$dir";; esac; \
	RUNBOOK_VERSION=$(VERSION) $(BIN) deploy --version=$(VERSION) --run-dir="$$dir" \
	  $(CONFIRM_FLAG) $(if $(filter 1 true yes,$(DRY_RUN)),--dry-run) \
	  $(if $(filter 1 true yes,$(AUTO_ROLLBACK)),--auto-rollback) $(DEPLOY_FLAGS)

postdeploy: $(BIN) ## Steps 4.2-4.5 against ENV: logs, SQL errors, health, spot checks, error rate, alerts (RUN_DIR= a deploy's run folder)
	@$(BIN) postdeploy --version=$(VERSION) --run-dir="$(RUN_DIR)"

.PHONY: report
# RUN defaults to the newest run folder. GNU make exits 2 whenever a recipe
# fails; the report's own code (README "Exit codes") is in make's "Error N"
# line, and `runbook report RUN` returns it directly (`go run` would not:
# it turns every failure into 1).
report: $(BIN) ## Go-live report of a run: SUCCESS CRITERIA with evidence, timeline, next command (RUN=runs/<timestamp>-<env>, default the newest)
	$(BIN) report $(or $(RUN),$(patsubst %/,%,$(lastword $(sort $(wildcard runs/*/)))))

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
rollback: $(BIN) ## ROLLBACK PROCEDURE: restore the previous images and the database from the verified backup, verify, smoke (RUN=..., CONFIRM=<env>, DRY_RUN=1, SKIP_DATABASE=1)
	$(BIN) rollback $(if $(RUN_GIVEN),--run-dir=$(RUN_GIVEN)) $(CONFIRM_FLAG) $(if $(filter 1 true yes,$(DRY_RUN)),--dry-run) \
	  $(if $(filter 1 true yes,$(SKIP_DATABASE)),--skip-database)

# The watch journals into RUN (default: the newest deployment run of
# $(ENV), else the newest runs/*-$(ENV) with a journal). SCHEDULE="10s x6" or COMPRESS=240 make a drill of it; TRAFFIC=20
# sends that many read-only requests a second (local platform only: it has
# no users). AUTO_ROLLBACK=1 runs the rollback when the runbook's rule fires
# (> 1% errors or a core flow broken); otherwise the exact command is
# printed. Exit 6: a round failed; 7: the automatic rollback failed.
monitor: $(BIN) ## MONITORING PHASE: the 4-hour watch of the key metrics (SCHEDULE=, COMPRESS=, TRAFFIC=, AUTO_ROLLBACK=1, RUN=)
	$(BIN) monitor $(if $(RUN_GIVEN),--run-dir=$(RUN_GIVEN)) $(CONFIRM_FLAG) $(if $(SCHEDULE),--schedule="$(SCHEDULE)") \
	  $(if $(COMPRESS),--compress=$(COMPRESS)) $(if $(TRAFFIC),--traffic=$(TRAFFIC)) $(if $(filter 1 true yes,$(AUTO_ROLLBACK)),--auto-rollback)

# make local-drill: make local with the broken v2.0.1 (5% of requests
# answer 500) and AUTO_ROLLBACK=1: `make deploy` fails its Phase 4 gate, the
# rollback runs, and the drill checks the result (images and services on
# v1.9.0, the database restored and verified against the backup, smoke
# passed on v1.9.0). Exit 0 only when it went exactly so. The library-level
# drill stays a test: go test -run '^TestDrill$$' ./rollback.
local-drill: setup bin/runbook-local bin/granter ## The rollback drill, locally: broken v2.0.1 deployed, the gate fails, the rollback runs, database and images back, smoke passes on v1.9.0
	AUTO_ROLLBACK=1 bin/runbook-local local --drill $(LOCAL_FLAGS)

.PHONY: rehearse rehearse-drill
# make rehearse: the runbook through the tagged builds, as a team runs it,
# against the local platform presented as the REMOTE environments staging
# and prod (fixtures/rehearsal: services over TLS signed by a local CA the
# files name, a kubeconfig with the contexts granter-staging and
# granter-prod, secrets only in the variables the files name, no endpoints
# file, no fault switch in reach, rehearsal: true). scripts/rehearse.sh runs
# make deploy ENV=staging, make rollback ENV=staging (the drill record),
# the staging smoke record, the acks, make preflight ENV=prod, make deploy
# ENV=prod CONFIRM=prod, go test ./smoke -tags=prod twice (each run must
# reach prod, from its request counters), make monitor SCHEDULE= (allowed
# by rehearsal: true only) and make report: exit 0 only on REHEARSAL
# PASSED with 11/11. Into runs/<time>-rehearse; each step's output in
# steps/. REHEARSE_WATCH sets the compressed schedule (default "30s x2").
rehearse: setup ## The prod path end to end: the local platform presented as remote staging and prod (TLS, kube contexts, secrets in variables), the tagged builds through every make target; exit 0 only on REHEARSAL PASSED 11/11
	bash scripts/rehearse.sh

# make rehearse-drill: the same path with the broken v2.0.1 deployed to the
# rehearsal's staging with AUTO_ROLLBACK=1 (the runbook's "Rollback tested
# (on staging)"; prod's checklist would refuse a release staging never
# passed): exit 0 only when its Phase 4 gate failed and the
# rollback completed, the database proven equal to the backup and the
# services back on v1.9.0 (from the journal and the cluster).
rehearse-drill: setup ## The rollback drill through the tagged builds: broken v2.0.1 deployed to the rehearsal's staging with AUTO_ROLLBACK=1; exit 0 only when rolled back and proven
	bash scripts/rehearse.sh --drill

clean-containers: ## Remove every container the tests left (label org.testcontainers=true)
	bash scripts/clean-containers.sh

clean: ## Remove build outputs and run folders (keeps the image and kube-tools caches)
	rm -rf bin runs .runbook
