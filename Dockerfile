# healthgate image: the static binary alone, FROM scratch, as user 65532.
#
# From source (a Debian 12 builder runs the project's own CMake build):
#   docker build -t healthgate .
# From a static binary built beforehand (no base image is pulled; the tests
# build it this way), with a build context holding the binary and a CA bundle:
#   mkdir ctx && cp build/healthgate build/healthgate.cdx.json /etc/ssl/certs/ca-certificates.crt ctx/
#   docker build --target prebuilt -f Dockerfile -t healthgate ctx
#
# Both targets produce the same layout: /healthgate, the CA bundle at
# /etc/ssl/certs/ca-certificates.crt (for https:// checks), and the SBOM of
# what is linked into the binary (CycloneDX, also printed by
# `healthgate version --sbom`) at /usr/share/doc/healthgate/healthgate.cdx.json,
# named by the org.opencontainers.image.sbom label.

# The builder runs on the build machine's own platform and cross-compiles when
# the target differs (linux/amd64 -> linux/arm64 with Debian's cross toolchain):
#   docker buildx build --platform linux/amd64,linux/arm64 -t healthgate .
FROM --platform=$BUILDPLATFORM debian:12 AS builder
ARG TARGETARCH
ARG BUILDARCH
WORKDIR /src
COPY . .
# Exactly what the static Release build needs (tests are off: no Catch2, no
# Python); lld lays out the exec probe's hot functions together (see
# cmake/StartupLink.cmake); ca-certificates provides the bundle copied into
# the image. For arm64 on another machine: the arm64 -dev packages beside the
# native ones, yaml-cpp's unpacked (scripts/install-deps --arm64 says why),
# qemu-user to run the build's own generator.
RUN set -eu; \
    native="libboost1.81-dev libc-ares-dev libfmt-dev libnghttp2-dev libspdlog-dev libssl-dev libyaml-cpp-dev"; \
    if [ "${TARGETARCH:-$BUILDARCH}" = "${BUILDARCH}" ]; then packages="$native"; cross=""; \
    elif [ "$TARGETARCH" = arm64 ]; then \
      dpkg --add-architecture arm64; \
      packages="g++-aarch64-linux-gnu qemu-user-static $(echo "$native" | sed 's/ libyaml-cpp-dev//; s/\([^ ]*\)/\1:arm64/g')"; \
      cross="-DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64-linux-gnu.cmake"; \
    else echo "no cross build from $BUILDARCH to $TARGETARCH (only to arm64)" >&2; exit 1; fi; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates cmake g++ lld make $packages; \
    if [ -n "$cross" ]; then scripts/unpack-deb libyaml-cpp-dev:arm64 /opt/healthgate/arm64/libyaml-cpp-dev; fi; \
    cmake -S . -B /build $cross -DCMAKE_BUILD_TYPE=Release -DHEALTHGATE_STATIC=ON -DHEALTHGATE_TESTS=OFF; \
    cmake --build /build -j"$(nproc)" --target healthgate; \
    mkdir -p /out/etc/ssl/certs /out/usr/share/doc/healthgate; \
    cp /build/healthgate /out/healthgate; \
    cp /build/healthgate.cdx.json /out/usr/share/doc/healthgate/healthgate.cdx.json; \
    cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ca-certificates.crt; \
    rm -rf /var/lib/apt/lists/*

# The binary and CA bundle come from the build context instead of the builder
# (other paths inside the context: --build-arg HEALTHGATE_BINARY=, CA_BUNDLE=).
FROM scratch AS prebuilt
ARG HEALTHGATE_BINARY=healthgate
ARG CA_BUNDLE=ca-certificates.crt
ARG SBOM=healthgate.cdx.json
COPY ${CA_BUNDLE} /etc/ssl/certs/ca-certificates.crt
COPY ${HEALTHGATE_BINARY} /healthgate
COPY ${SBOM} /usr/share/doc/healthgate/healthgate.cdx.json
LABEL org.opencontainers.image.title="healthgate" \
      org.opencontainers.image.description="Start safely, probe honestly, say why it died: gate, probe and sidecar for Kubernetes pods" \
      org.opencontainers.image.sbom="/usr/share/doc/healthgate/healthgate.cdx.json" \
      org.opencontainers.image.sbom.format="CycloneDX 1.5 JSON"
# OpenSSL's compiled-in default (/usr/lib/ssl) does not exist in a scratch image.
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
ENTRYPOINT ["/healthgate"]
CMD ["--help"]

# The default target: the binary built above.
FROM scratch AS image
COPY --from=builder /out/ /
LABEL org.opencontainers.image.title="healthgate" \
      org.opencontainers.image.description="Start safely, probe honestly, say why it died: gate, probe and sidecar for Kubernetes pods" \
      org.opencontainers.image.sbom="/usr/share/doc/healthgate/healthgate.cdx.json" \
      org.opencontainers.image.sbom.format="CycloneDX 1.5 JSON"
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
ENTRYPOINT ["/healthgate"]
CMD ["--help"]
