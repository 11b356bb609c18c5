from rest_framework import pagination, serializers

MSG_PAGE_SIZE = "Must be a whole number, 1 or more (more than 200 gives 200)."


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=2&page_size=100`; 50 by default, 200 at most."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        # DRF falls back to the default for `?page_size=0`, `=-1`, `=null` or `=`: a
        # client that asked for something else would think it had been given it.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise serializers.ValidationError({self.page_size_query_param: [MSG_PAGE_SIZE]})
        return min(int(raw), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1  # page=0 is a 404, like a page past the end
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["minimum"] = 1  # page_size=0 is a 400 naming page_size
                parameter["description"] = (
                    f"Rows per page, {self.page_size} by default; more than "
                    f"{self.max_page_size} gives {self.max_page_size}."
                )
        return parameters

    def get_paginated_response_schema(self, schema):
        # drf-spectacular builds a list's example from these: one page, all of it
        # (DRF's own say 123 rows, with links to pages 2 and 4 of /accounts/).
        response = super().get_paginated_response_schema(schema)
        properties = response["properties"]
        properties["count"]["example"] = 1
        properties["next"]["example"] = None
        properties["previous"]["example"] = None
        return response
