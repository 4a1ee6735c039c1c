# make test needs a real Redis: REDIS_URL when set, else scripts/with-redis.sh starts one.
# make test-cluster runs the same tests on a three-master Redis Cluster that
# scripts/with-cluster.sh starts and stops, then, alone on it, the tests only a cluster
# can run (build tag cluster: a hash slot moved between masters while events run).
# make fuzz runs every fuzz target (scripts/fuzz.sh finds them) for FUZZTIME each.
# make lint runs go vet, staticcheck at the version pinned in tools/go.mod (a module of its
# own, so the main go.mod stays clean; offline once the module cache holds it) and
# scripts/no-skip.sh, which allows no test to skip, and scripts/one-json.sh (one JSON package).
GO       ?= go
BIN      ?= bin/sangkien
PKGS     ?= ./...
WITH_REDIS = scripts/with-redis.sh
WITH_CLUSTER = scripts/with-cluster.sh

.PHONY: build test test-cluster test-faults vet lint cover bench fuzz run chat screens clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/sangkien

vet:
	$(GO) vet $(PKGS)

lint: vet
	$(GO) tool -modfile=tools/go.mod staticcheck $(PKGS)
	scripts/no-skip.sh
	scripts/one-json.sh

test: vet
	$(WITH_REDIS) $(GO) test -race -count=1 $(PKGS)

test-cluster: vet
	$(GO) vet -tags cluster ./bot/redisstore/
	$(WITH_CLUSTER) sh -c '$(GO) test -count=1 $(PKGS) && \
		$(GO) test -count=1 -tags cluster -run "^TestSlotMigration" ./bot/redisstore/'

# make test-faults runs the fault suite (build tag faults, cmd/sangkien/faults_*_test.go):
# the gateway as child processes, redis-servers of its own on ports 6400-6409 (it needs
# redis-server on PATH, installed as make test does when missing, not REDIS_URL), a fake
# Bot API and fake intakes; one line of counts per scenario. FULL=1 makes the big runs
# (100 kills); FAULTS_SEED repeats a run's kills. Not under -race: the gateways are the test binary, and the race detector would
# slow them past the suite's time budget.
test-faults: vet
	$(GO) vet -tags faults ./cmd/sangkien/
	bash -c 'source scripts/redis-common.sh && need_redis test-faults ""'
	$(GO) test -count=1 -tags faults -run '^TestFaults$$' -v -parallel 3 -timeout 12m ./cmd/sangkien/

cover:
	$(WITH_REDIS) $(GO) test -count=1 -coverprofile=coverage.out $(PKGS)
	$(GO) tool cover -func=coverage.out | tail -n 1
	@echo "HTML report: go tool cover -html=coverage.out"

# BENCH picks benchmarks by name, e.g. make bench BENCH=Engine
BENCH ?= .
bench:
	$(WITH_REDIS) $(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -count=1 $(PKGS)

# FUZZTIME is how long each fuzz target runs, e.g. make fuzz FUZZTIME=10s; no Redis needed.
FUZZTIME ?= 60s
fuzz:
	FUZZTIME=$(FUZZTIME) PKGS='$(PKGS)' GO='$(GO)' scripts/fuzz.sh

# screens writes the console's screenshots shown in the README to docs/screens/ (a real
# Chromium: CHROMIUM, or chromium on PATH). CI does not run it; make test checks the pages.
screens:
	$(WITH_REDIS) $(GO) test -count=1 -run '^Test(Screens|ReportsPageInABrowser|BroadcastFormInABrowser|ProgramEditInABrowser)$$' ./console -screens $(CURDIR)/docs/screens

run:
	$(GO) run ./cmd/sangkien serve

chat:
	$(GO) run ./cmd/sangkien chat

clean:
	rm -rf bin coverage.out
