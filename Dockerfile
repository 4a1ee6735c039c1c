# syntax=docker/dockerfile:1
# The gateway as a static binary on an empty image: no shell, no package manager,
# running as an unprivileged user. Build: docker build -t sangkien .

# The build image is pinned by digest, so that a rebuild uses the same compiler and
# CA roots until someone moves the pin on purpose: golang:1.26 as it was at Go 1.26.8
# (the Debian-based default variant). To refresh it, take the
# digest that `docker buildx imagetools inspect golang:1.26` prints on its Digest line
# and put it here; deploy/compose_test.go fails when the pin is missing.
# The final image is scratch, which has no digest: it is empty.
ARG GO_IMAGE=golang:1.26@sha256:0f063af2d465d8dcae54cce04278ada488b96f77b42449c8d071e47d016cc65a

FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/sangkien ./cmd/sangkien \
 && mkdir -p /out/data

FROM scratch
# TLS roots for the channel and intake APIs; zone data for Asia/Ho_Chi_Minh deadlines.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /usr/share/zoneinfo /usr/share/zoneinfo
COPY --from=build /out/sangkien /sangkien
# The file intake writes under /data; mount a volume there to keep it.
COPY --from=build --chown=65532:65532 /out/data /data
ENV TZ=Asia/Ho_Chi_Minh \
    HTTP_ADDR=:8080 \
    INTAKE_FILE=/data/submissions.jsonl
USER 65532:65532
EXPOSE 8080
VOLUME ["/data"]
# No shell or curl in the image: the binary asks its own GET /readyz on HTTP_ADDR
# (Redis answers, no reply waiting longer than READY_MAX_QUEUE_AGE) and exits 0 or 1.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 CMD ["/sangkien", "healthcheck"]
ENTRYPOINT ["/sangkien"]
CMD ["serve"]
