# tether's container image: a static binary on distroless, running as nonroot.
#
#   docker build -t tether --build-arg VERSION=$(git describe --always) .
#
# make image builds it here with podman from local stand-ins of the two base
# images, offline, with the host's module cache mounted (e2e/image/build.sh).
ARG GO_IMAGE=golang:1.26
ARG BASE_IMAGE=gcr.io/distroless/static:nonroot

# The build stage runs on the builder's platform and cross-compiles for the
# target's: no emulation, whatever --platform asks for.
FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build
ARG TARGETOS
ARG TARGETARCH
# Optional: a module proxy, or off with a module cache mounted at /go/pkg/mod.
ARG GOPROXY
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd/ cmd/
COPY source/ source/
COPY render/ render/
COPY reconcile/ reconcile/
# Static (CGO_ENABLED=0), as make build: see the Makefile for why it matters.
# VERSION comes last: a new version reuses every layer before this one.
ARG VERSION=dev
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/tether ./cmd/tether

FROM ${BASE_IMAGE}
# HTTPS Git remotes and Slack need the CA bundle; distroless has one, the
# copy keeps the image working on any static base.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/tether /tether
USER 65532:65532
ENTRYPOINT ["/tether"]
CMD ["run"]
