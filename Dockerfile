# webhookctl in a container: `docker build -t webhookctl .` then
# `docker run --rm -v "$PWD:/work" -e AMIGO_API_KEY webhookctl plan`.
# Two stages: the wheel is built in the first, so the image holds no build tools.
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY webhookctl ./webhookctl
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.12-slim
# Extras to install, e.g. --build-arg EXTRAS=vault,aws (default: both secrets backends).
ARG EXTRAS=vault,aws
COPY --from=build /wheels /wheels
RUN set -eu; wheel="$(ls /wheels/webhookctl-*.whl)"; \
    pip install --no-cache-dir "webhookctl[${EXTRAS}] @ file://${wheel}"; \
    rm -rf /wheels; \
    useradd --create-home --uid 10001 webhookctl
USER webhookctl
WORKDIR /work
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
ENTRYPOINT ["webhookctl"]
CMD ["--help"]
