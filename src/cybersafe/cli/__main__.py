"""python -m cybersafe.cli"""

from cybersafe.cli import main

main()
