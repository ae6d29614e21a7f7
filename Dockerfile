# syntax=docker/dockerfile:1
# One image for every production piece: `policyflow serve`, `worker` and `migrate`
# (docker-compose.yml picks the subcommand). Build: docker build -t policyflow:local .

ARG GO_VERSION=1.26.8
ARG ALPINE_VERSION=3.23

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
ENV CGO_ENABLED=0
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG TARGETOS
ARG TARGETARCH
# timetzdata: the binary carries its own time zone database, so POLICYFLOW_TIMEZONE=Asia/Tokyo
# works on any base image.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -tags timetzdata -ldflags="-s -w" -o /out/policyflow ./cmd/policyflow

# Alpine rather than distroless: busybox wget serves the API's health check (docker-compose.yml).
FROM alpine:${ALPINE_VERSION}
RUN apk add --no-cache ca-certificates tzdata \
    && addgroup -S -g 10001 policyflow \
    && adduser -S -D -H -u 10001 -G policyflow -s /sbin/nologin policyflow
COPY --from=build /out/policyflow /usr/local/bin/policyflow
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/policyflow"]
CMD ["serve"]
