# Builds the static minifleet binary with every asset embedded.
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY scripts ./scripts
RUN node scripts/vendor.mjs

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=assets /src/static/vendor ./static/vendor
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /minifleet ./app

# distroless/static has CA certificates (for WeChat's HTTPS APIs) and nothing else.
FROM gcr.io/distroless/static-debian12
COPY --from=build /minifleet /minifleet
ENV MINIFLEET_ADDR=:8080 MINIFLEET_DATA_DIR=/data
EXPOSE 8080
VOLUME /data
ENTRYPOINT ["/minifleet"]
CMD ["serve"]
