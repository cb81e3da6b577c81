"""One service function per command: a typed request in, the workspace opened, a typed result out.

The CLI parses options, calls exactly one function here and renders what it returns. Each
module serves one command group and imports only what its commands need (start-up stays
small: `tutela tables` must not pay for the detectors)."""
