# syntax=docker/dockerfile:1
# The replicasd server image: a static binary on distroless, running as the
# unprivileged uid 65532, with no shell and no package manager.
#
#   make image                      # docker build with VERSION/REVISION from git
#   docker buildx build --platform linux/amd64,linux/arm64 \
#     --build-arg VERSION=v1.2.3 --build-arg REVISION=$(git rev-parse HEAD) .

ARG GO_VERSION=1.26

# Build on the builder's own platform and cross-compile: no emulation needed
# for multi-platform images.
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
# Dependencies first, so source edits reuse this layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY api/ api/
COPY src/ src/
ARG TARGETOS=linux
ARG TARGETARCH=amd64
ARG VERSION=dev
ARG REVISION=unknown
# Static (no cgo), reproducible paths (-trimpath), version stamped as the
# Makefile's LDFLAGS do. -buildvcs=false: .git is not in the build context.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/replicasd/replicasd/src/version.Version=${VERSION} -X github.com/replicasd/replicasd/src/version.Revision=${REVISION}" \
      -o /out/replicasd ./src/cmd/replicasd

FROM gcr.io/distroless/static:nonroot
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="replicasd" \
      org.opencontainers.image.description="Serves and sets Kubernetes Deployment replica counts over mTLS" \
      org.opencontainers.image.source="https://github.com/replicasd/replicasd" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /out/replicasd /usr/local/bin/replicasd
# nonroot:nonroot in distroless; numeric so runAsNonRoot can verify it.
USER 65532:65532
# 8443: the mTLS API; 9090: probes and metrics (plain HTTP).
EXPOSE 8443 9090
ENTRYPOINT ["/usr/local/bin/replicasd"]
