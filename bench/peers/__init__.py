"""The peers our benchmarks measure in the same run (issues 5 and 15): installed by these
scripts into the git-ignored bench/.peers, never committed."""
