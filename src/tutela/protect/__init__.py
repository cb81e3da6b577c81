"""Protection: keys, keyed pseudonymization, reversible tokens, masking and re-identification risk.

The library API (the CLI in `tutela.cli.protect` is a thin layer over it):

* `keys`: the master key and the versioned key set (init, rotate, retire).
* `pseudonymize` (per-column methods) and `shred` (per-subject keys): plan what would
  happen to a table; `pipeline` carries either plan out: in place, or a protected file
  with a `<out>.tutela.json` manifest, or a lake table. `service.protect` is the command.
* `reversible`: AES-SIV tokens, re-identification for authorised roles, re-keying.
* `risk`: k-anonymity, unique rows and l-diversity over quasi-identifiers.
"""
