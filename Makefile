# Minifleet: `make run` starts it in sandbox mode, `make test` runs every test.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/minifleet

.PHONY: run build assets generate test test-unit chromium litefs screenshot bench check-generated check-libc lint clean

## run: build assets and start Minifleet on ./data in sandbox mode
run: assets
	$(GO) run ./app serve

## build: a static binary with every asset embedded
build: assets
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o $(BIN) ./app

## assets: htmx, its SSE extension and Pico CSS from npm (pinned in package-lock.json) into static/vendor
assets: static/vendor/htmx.min.js

static/vendor/htmx.min.js: package.json package-lock.json scripts/vendor.mjs
	npm ci --no-audit --no-fund --loglevel=error
	node scripts/vendor.mjs
	@touch $@

## generate: regenerate templ components (committed)
generate:
	$(GO) tool templ generate

## test: every test, browser and two-node LiteFS tests included (installs Debian's chromium, LiteFS and fuse3 when missing)
test: assets chromium litefs
	$(GO) test -count=1 -timeout 25m ./...

## chromium: the browser for the end-to-end tests, and a CJK font so screenshots show Chinese
chromium:
	@{ command -v chromium && fc-list :lang=zh | grep -q .; } >/dev/null 2>&1 || { \
		echo "installing chromium and fonts-wqy-microhei (Debian packages) for the browser tests"; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei >/dev/null; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei >/dev/null; fi; }

## litefs: LiteFS (pinned) and fuse3's fusermount3 for the two-node test (app/litefs_test.go), when missing
LITEFS_VERSION := v0.5.14
litefs:
	@{ command -v litefs || test -x "$$($(GO) env GOPATH)/bin/litefs"; } >/dev/null 2>&1 || { \
		echo "installing litefs $(LITEFS_VERSION) (go install) for the two-node test"; \
		$(GO) install github.com/superfly/litefs/cmd/litefs@$(LITEFS_VERSION); }
	@command -v fusermount3 >/dev/null 2>&1 || { \
		echo "installing fuse3 (Debian package) for the two-node test"; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq --no-install-recommends fuse3 >/dev/null; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq --no-install-recommends fuse3 >/dev/null; fi; }

## screenshot: rewrite docs/screenshot.png from the browser test (screenshots of every step go to .screenshots/)
screenshot: assets chromium
	MINIFLEET_E2E_DOCS=1 $(GO) test -count=1 -run '^TestE2E$$' ./app

## bench: the benchmarks in docs/benchmarks.md
bench: assets
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s -timeout 90m ./app/...

## check-generated: fail when *_templ.go files are stale
check-generated:
	$(GO) tool templ generate
	git diff --exit-code -- '*_templ.go' || { echo "generated templ files are stale: run make generate and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- '*_templ.go')" || { echo "untracked generated templ files"; git status --porcelain -- '*_templ.go'; exit 1; }

## check-libc: modernc.org/sqlite needs the exact modernc.org/libc of its own go.mod
check-libc:
	@want=$$(awk '$$1=="modernc.org/libc"{print $$2}' "$$($(GO) list -m -f '{{.GoMod}}' modernc.org/sqlite)"); \
	have=$$($(GO) list -m -f '{{.Version}}' modernc.org/libc); \
	test "$$want" = "$$have" || { echo "modernc.org/libc is $$have, sqlite wants $$want"; exit 1; }

## lint: gofmt and go vet
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

clean:
	rm -rf bin static/vendor/*.js static/vendor/*.css
