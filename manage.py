#!/usr/bin/env python
"""Same as the ``kehu`` console command."""

from config.cli import main

if __name__ == "__main__":
    main()
