"""Where everything goes in a picture: which ops collapse into one box, which
cluster (module call or composite op) each box sits in, and where leaves belong.

Ops recorded inside ``ag.scope`` carry a chain of scopes (``scope.path()``),
outermost first.  Walking that chain decides, per op: a module scope nested
deeper than ``depth`` *collapses* (all its ops become one box), as does a
composite op unless ``expand_composites``; every other scope is a *cluster*
(a frame around its ops).  Parameters go to the module that owns them (by
name, with a model) or to the innermost module all their uses ran in.
"""
from .walk import FreedConst


class Grouping:
    """Mixin for :class:`~autograd.viz.draw.Builder`: grouping by scope and leaf placement.

    Sets ``group_of`` (node -> collapsed scope), ``cluster_of`` (box -> innermost
    cluster scope or None), ``members`` and ``outputs`` per collapsed scope,
    ``absorbed`` (leaf -> the collapsed module hiding it) and ``group_params``.
    """

    def _scope_class(self, scope):
        """(group, cluster) for ops recorded in ``scope``: the collapsed scope they
        belong to (or None) and the innermost cluster their box sits in (or None)."""
        hit = self._class_cache.get(scope)
        if hit is not None:
            return hit
        group = cluster = None
        level = 0
        for s in (scope.path() if scope is not None else ()):
            if s.kind == "module":
                level += 1
                if self.o["depth"] is not None and level > self.o["depth"]:
                    group = s
                    break
                cluster = s
            elif self.o["expand_composites"]:
                cluster = s
            else:
                group = s
                break
        self._class_cache[scope] = (group, cluster)
        return group, cluster

    def _classify(self):
        self._class_cache = {}
        self.group_of, self.cluster_of = {}, {}
        self.members = {}        # group -> nodes
        for node in self.walk.nodes:
            group, cluster = self._scope_class(node.scope)
            if group is not None:
                self.group_of[node] = group
                self.members.setdefault(group, []).append(node)
            self.cluster_of[group if group is not None else node] = cluster
        self.outputs = {}        # group -> member nodes used outside it (or drawn roots)
        for group, nodes in self.members.items():
            outs = []
            for n in nodes:
                uses = self.walk.consumers.get(n, ())
                if n in self.walk.root_of or any(self.group_of.get(c) is not group for c, _ in uses):
                    outs.append(n)
            self.outputs[group] = outs
        # Module calls: number repeated calls of the same module (weight sharing).
        self.call_no = {}
        counts = {}
        for scope in list(self.cluster_of.values()) + list(self.members):
            for s in (scope.path() if scope is not None else ()):
                if s.kind == "module" and s not in self.call_no and s.obj is not None:
                    counts[id(s.obj)] = counts.get(id(s.obj), 0) + 1
                    self.call_no[s] = counts[id(s.obj)]

    def _module_path(self, scope):
        return self.paths.get(id(scope.obj)) if scope.obj is not None else None

    def scope_label(self, s):
        """``<path>: <scope name>`` with a model (``layers.0: Affine``), else the scope's name;
        ``(call 2)`` when reused."""
        if s.kind != "module":
            return s.name
        path = self._module_path(s)
        label = s.name if not path else f"{path}: {s.name}"
        n = self.call_no.get(s, 1)
        return label + (f" (call {n})" if n > 1 else "")

    def _place_leaves(self):
        """Decide where each leaf sits: in which cluster, or inside which collapsed module."""
        self.absorbed = {}       # leaf key -> group that hides it
        self.group_params = {}   # group -> absorbed leaves that require grad
        for key in self.walk.leaves:
            uses = self.walk.consumers[key]
            where = None
            if not uses:
                pass
            elif self.walk.is_const(key):
                if len(uses) == 1 and (type(key) is FreedConst or key.size == 1):
                    # A scalar constant belongs to the op that uses it.  A freed one may have
                    # been anything (the input batch), so only a composite op hides it.
                    n = uses[0][0]
                    group = self.group_of.get(n)
                    if group is not None and (group.kind != "module" or type(key) is not FreedConst):
                        where = group
                    else:
                        where = ("c", self.cluster_of[group if group is not None else n])
            else:
                where = self._param_home(key, uses)
            if where is None:
                self.cluster_of[key] = None
            elif isinstance(where, tuple):
                self.cluster_of[key] = where[1]
            else:
                self.absorbed[key] = where
                if not self.walk.is_const(key):
                    self.group_params.setdefault(where, []).append(key)

    def _param_home(self, key, uses):
        """The module a leaf that requires grad belongs to: with a model, its owner by
        parameter name; without, the innermost module every consumer ran in."""
        chains = [n.scope.path() if n.scope is not None else [] for n, _ in uses]
        common = chains[0]
        for ch in chains[1:]:
            k = 0
            while k < len(common) and k < len(ch) and common[k] is ch[k]:
                k += 1
            common = common[:k]
        owner = None
        if self.model.parts:
            name = self.names.get(key)
            if name is None:
                return None
            owner = name.rpartition(".")[0]
        pick = None
        for s in common:
            if s.kind != "module":
                continue
            if owner is None:
                pick = s
            else:
                path = self._module_path(s)
                if path is not None and (path == "" or owner == path or owner.startswith(path + ".")):
                    pick = s
        if pick is None:
            return None
        group, cluster = self._scope_class(pick)
        if group is not None and group.kind == "module":
            return group
        return ("c", cluster)
