# sluice worker/CLI image. Node 24 runs the TypeScript sources directly.
# The optional `local` embedder (@huggingface/transformers + onnxruntime, ~290 MB) is
# left out unless built with --build-arg WITH_LOCAL_EMBEDDER=1.
# .ci/run checks this install path without Docker (scripts/check-production-install.sh).
FROM node:24-slim
ARG WITH_LOCAL_EMBEDDER=0
WORKDIR /app
ENV NODE_ENV=production ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
RUN if [ "$WITH_LOCAL_EMBEDDER" = "1" ]; then omit=""; else omit="--omit=optional"; fi \
 && npm ci --omit=dev $omit --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY migrations ./migrations
USER node
ENTRYPOINT ["node", "bin/sluice.js"]
