"""Models context: the catalogue of model aliases clients call, with their prices."""
