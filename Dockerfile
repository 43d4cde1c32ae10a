# Two images from one file.
#   docker build -t usersync .                                  usersync as a service: `usersync serve` on port 8080,
#     data (the embedded store and its secret key) in /data. For PostgreSQL pass DATABASE_URL and USERSYNC_SECRET_KEY,
#     and run more containers with the command `usersync worker`.
#   docker build --target emulator -t usersync-emulator .       the Microsoft Graph + Entra ID emulator on its own
#     (docs/emulator.md §10): docker run -p 8443:8443 usersync-emulator --users 500

# The admin console is built with the development dependencies, which the images do not carry.
FROM node:24-bookworm-slim AS console
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY src ./src
COPY web ./web
RUN npx vite build web --logLevel warn

# Runtime dependencies only; usersync runs its TypeScript directly on Node 24 (no build step).
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY bin ./bin
COPY src ./src
RUN ln -s /app/bin/usersync.js /usr/local/bin/usersync

FROM runtime AS emulator
USER node
EXPOSE 8443
# Listens on every address of the container and hands out https://localhost:8443 URLs (its certificate is for
# localhost and 127.0.0.1); the CA to trust is printed as "ca" in the connection line: copy it out with docker cp.
ENTRYPOINT ["usersync", "emulator", "--host", "0.0.0.0", "--port", "8443", "--public-url", "https://localhost:8443"]

FROM runtime AS service
ENV USERSYNC_DATA=/data
COPY --from=console /app/web/dist ./web/dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD node -e "fetch('http://127.0.0.1:8080/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
CMD ["usersync", "serve", "--host", "0.0.0.0", "--port", "8080"]
