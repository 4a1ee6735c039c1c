# syntax=docker/dockerfile:1
# The gateway as a static binary on an empty image: no shell, no package manager,
# running as an unprivileged user. Build: docker build -t sangkien .

FROM golang:1.26 AS build
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
