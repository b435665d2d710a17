//! drizzle-kit snapshot JSON and the exporter's read-mode JSON into a [`Mapping`].
