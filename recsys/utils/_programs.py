"""Executables outside Python that some optional engines start (Spark's JVM)."""

import os
import shutil


def find_program(name):
    """The path of the executable ``name`` that would be started, or None.

    ``java`` is looked for as pyspark looks for it: ``$JAVA_HOME/bin/java``
    when ``JAVA_HOME`` is set (and nowhere else then), else on ``PATH``.
    Every other program is looked for on ``PATH``.

    Examples
    --------
    >>> from recsys.utils import find_program
    >>> find_program("sh") is not None
    True
    >>> find_program("no-such-program-here") is None
    True
    """
    java_home = os.environ.get("JAVA_HOME")
    if name == "java" and java_home:
        candidate = os.path.join(java_home, "bin", "java")
        return candidate if os.access(candidate, os.X_OK) else None
    return shutil.which(name)
