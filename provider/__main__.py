"""The component provider's entry point: hosts cloudqueue's components for programs in other languages.

Lives here, not at the repository root, where __main__.py is the stack's own Pulumi program.
"""

from cloudqueue.tools.provider import serve

if __name__ == "__main__":
    serve()
