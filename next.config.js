/** @type {import('next').NextConfig} */
const nextConfig = {
  // Native and WASM-backed server packages are loaded from node_modules at run time, not bundled.
  serverExternalPackages: [
    "better-sqlite3",
    "@prisma/adapter-better-sqlite3",
    "@prisma/driver-adapter-utils",
  ],
  // Separate build folders let several builds coexist (e.g. parallel test runs).
  distDir: process.env.MERGESCOPE_NEXT_DIST ?? ".next",
  poweredByHeader: false,
  reactStrictMode: true,
};

export default nextConfig;
