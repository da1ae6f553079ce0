# sluice worker/CLI image. Node 24 runs the TypeScript sources directly.
FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY migrations ./migrations
USER node
ENTRYPOINT ["node", "bin/sluice.js"]
