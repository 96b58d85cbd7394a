# healthgate image: the static binary alone, FROM scratch, as user 65532.
#
# From source (a Debian 12 builder runs the project's own CMake build):
#   docker build -t healthgate .
# From a static binary built beforehand (no base image is pulled; the tests
# build it this way), with a build context holding the binary and a CA bundle:
#   mkdir ctx && cp build/healthgate /etc/ssl/certs/ca-certificates.crt ctx/
#   docker build --target prebuilt -f Dockerfile -t healthgate ctx
#
# Both targets produce the same layout: /healthgate, the CA bundle at
# /etc/ssl/certs/ca-certificates.crt (for https:// checks), nothing else.

FROM debian:12 AS builder
# Exactly what the static Release build needs (tests are off: no Catch2,
# no Python); lld lays out the exec probe's hot functions together (see
# CMakeLists.txt); ca-certificates provides the bundle copied into the image.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates cmake g++ lld make \
      libboost1.81-dev libc-ares-dev libfmt-dev libspdlog-dev libssl-dev libyaml-cpp-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DHEALTHGATE_STATIC=ON -DHEALTHGATE_TESTS=OFF \
 && cmake --build /build -j"$(nproc)" --target healthgate \
 && /build/healthgate --version \
 && mkdir -p /out/etc/ssl/certs \
 && cp /build/healthgate /out/healthgate \
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ca-certificates.crt

# The binary and CA bundle come from the build context instead of the builder
# (other paths inside the context: --build-arg HEALTHGATE_BINARY=, CA_BUNDLE=).
FROM scratch AS prebuilt
ARG HEALTHGATE_BINARY=healthgate
ARG CA_BUNDLE=ca-certificates.crt
COPY ${CA_BUNDLE} /etc/ssl/certs/ca-certificates.crt
COPY ${HEALTHGATE_BINARY} /healthgate
# OpenSSL's compiled-in default (/usr/lib/ssl) does not exist in a scratch image.
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
ENTRYPOINT ["/healthgate"]
CMD ["--help"]

# The default target: the binary built above.
FROM scratch AS image
COPY --from=builder /out/ /
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
ENTRYPOINT ["/healthgate"]
CMD ["--help"]
