"""Built-in knowledge for lineage analysis, as plain data.

* :mod:`.roots`: what root images (debian, ubuntu, alpine, busybox, scratch) contain.
* :mod:`.packages`: which executables a distribution package installs.
* :mod:`.installers`: console scripts of language packages (pip, conda, npm, gem, cargo,
  go) and what installer scripts (Miniforge, rustup, uv...) put where.
* :mod:`.images`: well-known images (jupyter/docker-stacks, Docker official images):
  their parent and what they add on top of it.

Every fact records where it comes from and as of when. Absence from a table never means
"missing": an unknown package or image has unknown contents.
"""
