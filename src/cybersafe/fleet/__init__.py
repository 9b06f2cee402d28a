"""Fleet scale on Dask distributed: ``cybersafe batch`` (many products) and ``watch run --scheduler`` (many
SBOMs). Dask is an optional extra (``pip install 'cybersafe[fleet]'``) imported only when a command runs;
``cybersafe diff`` and delta re-assessment are core modules (cybersafe/diff.py, cybersafe/delta.py)."""
