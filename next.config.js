/** @type {import('next').NextConfig} */
const nextConfig = {
  // Native and WASM-backed server packages are loaded from node_modules at run time, not bundled.
  serverExternalPackages: [
    "better-sqlite3",
    "@prisma/adapter-better-sqlite3",
    "@prisma/driver-adapter-utils",
  ],
  poweredByHeader: false,
  reactStrictMode: true,
};

export default nextConfig;
