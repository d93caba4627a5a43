# syntax=docker/dockerfile:1
# Multi-stage build: a static binary (CGO_ENABLED=0; SQLite is pure Go and
# the tz database is embedded), run as a non-root user with /data as volume.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/prodays ./server

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/prodays /usr/local/bin/prodays
ENV PRODAYS_DB=/data/prodays.db PRODAYS_ADDR=:8080
VOLUME ["/data"]
EXPOSE 8080
USER nonroot:nonroot
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/prodays", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/prodays"]
CMD ["serve"]
