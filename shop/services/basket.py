def get_basket_count(request) -> int:
    return 0
