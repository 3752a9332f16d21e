"""The top layer: flows that span three modules or more (closing a deal), the admin and pages
that drive them, and the project-wide `seed_demo` command. Nothing below imports this package.
A flow between two modules lives in the upper module of the pair instead (see
docs/architecture.md)."""
