"""Make the collection importable as ``ansible_collections.edgeops.k8s_network``.

``scripts/bootstrap.sh`` links the checkout into ``.build/collections``; under
``ansible-test`` the collection already sits in a real ``ansible_collections`` tree.
"""

import importlib.util
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, ".build", "collections")

try:
    HAS_COLLECTION = importlib.util.find_spec("ansible_collections.edgeops.k8s_network") is not None
except ImportError:
    HAS_COLLECTION = False
if not HAS_COLLECTION:
    sys.path.insert(0, COLLECTIONS)
