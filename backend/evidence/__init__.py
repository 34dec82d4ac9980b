"""Evidence documents: content addressing (IPFS CIDs) and the stores that keep them."""
