"""The CQL compiler: a parsed library → a :class:`CompiledLibrary` of closures.

``compile_library(library_ast, resolver=...)`` resolves every identifier, function and operator
at load time and raises :class:`~cds.cql.errors.CqlLoadError` listing every problem.
``CompiledLibrary.expression_names()`` lists the public expression defines;
``CompiledLibrary.evaluate(name, ctx)`` evaluates one in an
:class:`~cds.cql.compiler.context.EvaluationContext` (each define at most once per context).
"""

from cds.cql.compiler.compiled import CompiledLibrary
from cds.cql.compiler.library import compile_library

__all__ = ["CompiledLibrary", "compile_library"]
