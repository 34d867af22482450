# Builds the minifleet binary with every asset embedded, and LiteFS, which
# replicates its SQLite database (litefs.yml; docs/architecture.md "Past one machine").
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY scripts ./scripts
RUN node scripts/vendor.mjs

FROM golang:1.26-bookworm AS build
WORKDIR /src
# LiteFS, pinned (the Makefile's LITEFS_VERSION); it needs cgo, so glibc.
RUN go install github.com/superfly/litefs/cmd/litefs@v0.5.14
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=assets /src/static/vendor ./static/vendor
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /minifleet ./app

# LiteFS mounts the database with FUSE: fuse3 (fusermount3) and CA
# certificates (WeChat's HTTPS APIs) on a small Debian.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates fuse3 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /go/bin/litefs /usr/local/bin/litefs
COPY --from=build /minifleet /minifleet
COPY litefs.yml /etc/litefs.yml
ENV MINIFLEET_ADDR=:8080 MINIFLEET_DATA_DIR=/data
EXPOSE 8080
VOLUME /data
# `litefs mount` reads /etc/litefs.yml, mounts /litefs and runs `/minifleet serve`
# (its exec). Without LiteFS: docker run IMAGE /minifleet serve.
CMD ["litefs", "mount"]
