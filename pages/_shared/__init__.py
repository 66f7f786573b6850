"""What the pages share: session state (``ui``), drawing helpers (``show``), the live view of
a running search (``live``), the Data page's sources and profile, the Explain page's row
finder. Kept out of the top level of ``pages/`` so that it holds only pages."""
