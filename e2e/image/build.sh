#!/usr/bin/env bash
# Builds tether's image (the repository's Dockerfile) on this machine: no
# registry, no Docker engine, no network during the build.
#
#   e2e/image/build.sh [IMAGE]     (make image; default localhost/tether:dev)
#
# - podman, buildah and runc come from Debian's packages, installed when missing.
# - The Dockerfile's two base images are replaced by local stand-ins, built once
#   from this machine's own files with `buildah from scratch`:
#     localhost/tether-base/go:<go minor>   the host's Go toolchain, busybox as
#                                           /bin/sh, the CA bundle (golang:1.26)
#     localhost/tether-base/static:nonroot  the CA bundle, passwd/group with
#                                           nonroot 65532, /tmp (distroless/static:nonroot)
#   They are rebuilt when the host's Go version or this script's STANDIN_VERSION changes.
# - The build runs with --network none and the host's module cache mounted
#   read-only at /go/pkg/mod with GOPROXY=off, so `go mod download` runs on the
#   host first. The Go build cache is a buildah cache mount kept between builds.
set -euo pipefail
cd "$(dirname "$0")/../.."

IMAGE=${1:-${IMAGE:-localhost/tether:dev}}
VERSION=${VERSION:-$(git describe --always --dirty 2>/dev/null || echo dev)}
STANDIN_VERSION=1 # bump when a stand-in's contents change
export CONTAINERS_CONF="$PWD/e2e/image/containers.conf"
export PATH="/usr/local/go/bin:$PATH"

say() { printf '==> %s\n' "$*" >&2; }

# ensure_tools installs podman, buildah, runc and a static busybox when missing.
ensure_tools() {
  local missing=()
  command -v podman >/dev/null || missing+=(podman)
  command -v buildah >/dev/null || missing+=(buildah)
  command -v runc >/dev/null || missing+=(runc)
  dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' || missing+=(busybox-static)
  [ ${#missing[@]} -eq 0 ] && return
  say "installing ${missing[*]} (Debian packages)"
  command -v apt-get >/dev/null || { echo "build.sh: need ${missing[*]}; install them with your package manager" >&2; exit 1; }
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# label prints one label of a local image, or nothing when the image is absent.
label() {
  podman image inspect --format "{{index .Labels \"$2\"}}" "$1" 2>/dev/null || true
}

# standin starts a scratch container and prints its name and mount point.
standin() {
  local c
  c=$(buildah from scratch)
  printf '%s %s\n' "$c" "$(buildah mount "$c")"
}

# commit_standin labels, commits and removes the working container.
commit_standin() {
  local c=$1 image=$2 stamp=$3
  buildah config --label "tether.dev/stand-in=$stamp" \
    --label "org.opencontainers.image.description=local stand-in base image for tether's Dockerfile" "$c"
  buildah commit --quiet --rm "$c" "$image" >/dev/null
}

# go_standin builds the golang:1.26 stand-in from the host's Go toolchain.
go_standin() {
  local image=$1 stamp="$STANDIN_VERSION/$(go env GOVERSION)"
  [ "$(label "$image" tether.dev/stand-in)" = "$stamp" ] && return
  say "building stand-in $image from $(go env GOROOT)"
  local c m goroot
  read -r c m < <(standin)
  goroot=$(go env GOROOT)
  mkdir -p "$m/usr/local/go" "$m/bin" "$m/etc/ssl/certs" "$m/tmp" "$m/root" "$m/go/bin" "$m/go/pkg/mod"
  cp -a "$goroot"/{VERSION,go.env,bin,lib,pkg,src} "$m/usr/local/go/"
  cp /bin/busybox "$m/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ -e "$m/bin/$applet" ] || ln -s busybox "$m/bin/$applet"
  done
  cp -L /etc/ssl/certs/ca-certificates.crt "$m/etc/ssl/certs/"
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$m/etc/passwd"
  printf 'root:x:0:\n' >"$m/etc/group"
  chmod 1777 "$m/tmp"
  buildah config --env PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env GOPATH=/go --env GOTOOLCHAIN=local --env "GOLANG_VERSION=$(go env GOVERSION | sed 's/^go//')" \
    --workingdir /go --cmd /bin/sh "$c"
  commit_standin "$c" "$image" "$stamp"
}

# static_standin builds the distroless/static:nonroot stand-in.
static_standin() {
  local image=$1 stamp=$STANDIN_VERSION
  [ "$(label "$image" tether.dev/stand-in)" = "$stamp" ] && return
  say "building stand-in $image"
  local c m
  read -r c m < <(standin)
  mkdir -p "$m/etc/ssl/certs" "$m/tmp" "$m/home/nonroot"
  cp -L /etc/ssl/certs/ca-certificates.crt "$m/etc/ssl/certs/"
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
    'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$m/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'nonroot:x:65532:' >"$m/etc/group"
  chmod 1777 "$m/tmp"
  chown 65532:65532 "$m/home/nonroot"
  chmod 700 "$m/home/nonroot"
  buildah config --user 65532:65532 --workingdir /home/nonroot "$c"
  commit_standin "$c" "$image" "$stamp"
}

main() {
  ensure_tools
  local minor go_image static_image
  minor=$(go env GOVERSION | sed -E 's/^go([0-9]+\.[0-9]+).*/\1/')
  go_image=localhost/tether-base/go:$minor
  static_image=localhost/tether-base/static:nonroot
  go_standin "$go_image"
  static_standin "$static_image"
  say "go mod download (the build is offline)"
  go mod download
  say "building $IMAGE ($VERSION)"
  local old new
  old=$(podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
  podman build --network none --pull=never \
    --build-arg "GO_IMAGE=$go_image" --build-arg "BASE_IMAGE=$static_image" \
    --build-arg "TARGETOS=$(go env GOOS)" --build-arg "TARGETARCH=$(go env GOARCH)" \
    --build-arg "VERSION=$VERSION" --build-arg GOPROXY=off \
    --volume "$(go env GOMODCACHE):/go/pkg/mod:ro" \
    --tag "$IMAGE" --file Dockerfile .
  # The image this one replaced is left untagged: remove it (unless in use).
  new=$(podman image inspect --format '{{.Id}}' "$IMAGE")
  if [ -n "$old" ] && [ "$old" != "$new" ]; then
    podman rmi "$old" >/dev/null 2>&1 || true
  fi
}

main
