//! Native `schema.prisma` reader: lexer, parser and resolver into a [`Mapping`].
