"""The definitions of the code location, one module per stage; `dg.load_from_defs_folder` collects them."""
